/* SPDX-License-Identifier: MIT */
/* tests/unit/xfrd/xfr/memstore.c -- in-memory store for engine tests. */
#include "tests/unit/xfrd/xfr/memstore.h"

#include "common/dnsmsg.h"
#include "common/serial.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYMAX (DNAME_MAXLEN + 2 + 1024)
#define MAXZONES 64

struct key {
	size_t len;
	uint8_t b[KEYMAX];
};

struct zone {
	uint8_t name[DNAME_MAXLEN];
	struct memstore_zone pub;
	struct key *rrs;
	size_t n;
};

struct memstore {
	pthread_mutex_t mu;
	struct zone z[MAXZONES];
	size_t nz;
};

struct op {
	enum xfrstream_ev ev;
	uint32_t serial;
	struct key k;
};

struct txn {
	struct memstore *m;
	uint8_t zone[DNAME_MAXLEN];
	bool axfr;
	enum zdb_serial_rule rule;
	struct op *ops;
	size_t n, cap;
};

struct memstore *memstore_new(void)
{
	struct memstore *m = calloc(1, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	return m;
}

void memstore_free(struct memstore *m)
{
	for (size_t i = 0; i < m->nz; i++) {
		free(m->z[i].rrs);
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static struct zone *find(struct memstore *m, const uint8_t *name, bool create)
{
	for (size_t i = 0; i < m->nz; i++) {
		if (dname_equal(m->z[i].name, name)) {
			return &m->z[i];
		}
	}
	if (!create || m->nz == MAXZONES) {
		return NULL;
	}
	struct zone *z = &m->z[m->nz++];
	memcpy(z->name, name, (size_t)dname_wire_len(name, DNAME_MAXLEN));
	return z;
}

static void make_key(struct key *k, const uint8_t *owner, size_t olen, uint16_t type,
                     const uint8_t *rdata, size_t rdlen)
{
	memcpy(k->b, owner, olen);
	dname_lower(k->b);
	k->b[olen] = (uint8_t)(type >> 8);
	k->b[olen + 1] = (uint8_t)type;
	memcpy(k->b + olen + 2, rdata, rdlen);
	k->len = olen + 2 + rdlen;
}

static long index_of(const struct key *v, size_t n, const struct key *k)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].len == k->len && memcmp(v[i].b, k->b, k->len) == 0) {
			return (long)i;
		}
	}
	return -1;
}

static int zone_get(void *store, const uint8_t *zone, struct xfr_held *out)
{
	struct memstore *m = store;
	pthread_mutex_lock(&m->mu);
	struct zone *z = find(m, zone, false);
	memset(out, 0, sizeof(*out));
	if (z != NULL && z->pub.loaded) {
		out->loaded = true;
		out->serial = z->pub.serial;
	}
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static _Thread_local char errtext[128];

static const char *last_error(void)
{
	return errtext;
}

static int begin(void *store, const uint8_t *zone, bool axfr, enum zdb_serial_rule rule,
                 void **txn)
{
	struct txn *t = calloc(1, sizeof(*t));
	t->m = store;
	t->axfr = axfr;
	t->rule = rule;
	memcpy(t->zone, zone, (size_t)dname_wire_len(zone, DNAME_MAXLEN));
	*txn = t;
	return 0;
}

static int put(void *txn, enum xfrstream_ev ev, const struct xfrstream_rr *rr)
{
	struct txn *t = txn;
	if (ev == XFRSTREAM_BEGIN_IXFR || ev == XFRSTREAM_END || ev == XFRSTREAM_UPTODATE) {
		return 0;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->ops = realloc(t->ops, t->cap * sizeof(*t->ops));
	}
	struct op *o = &t->ops[t->n++];
	o->ev = ev == XFRSTREAM_BEGIN_AXFR ? XFRSTREAM_ADD_SOA : ev;
	o->serial = rr->serial;
	make_key(&o->k, rr->owner, rr->owner_len, rr->type, rr->rdata, rr->rdlen);
	return 0;
}

static void txn_free(struct txn *t)
{
	free(t->ops);
	free(t);
}

/* Apply the ops to a copy of the zone's records; ZX_EDIFF when they do not apply. */
static int apply(struct txn *t, struct zone *z, struct key **out, size_t *n_out, uint32_t *ser)
{
	size_t n = t->axfr ? 0 : z->n, cap = n + t->n + 1;
	struct key *v = malloc(cap * sizeof(*v));
	if (!t->axfr && z->n > 0) {
		memcpy(v, z->rrs, z->n * sizeof(*v));
	}
	uint32_t serial = t->axfr ? 0 : z->pub.serial;
	for (size_t i = 0; i < t->n; i++) {
		struct op *o = &t->ops[i];
		long at = index_of(v, n, &o->k);
		bool soa = o->ev == XFRSTREAM_DEL_SOA || o->ev == XFRSTREAM_ADD_SOA;
		if (o->ev == XFRSTREAM_DEL_SOA && o->serial != serial) {
			goto diff;
		}
		if ((o->ev == XFRSTREAM_DEL || o->ev == XFRSTREAM_DEL_SOA) && at < 0) {
			goto diff;
		}
		if (o->ev == XFRSTREAM_ADD && at >= 0) {
			if (t->axfr) {
				continue; /* an AXFR may repeat an RR */
			}
			goto diff;
		}
		if (o->ev == XFRSTREAM_DEL || o->ev == XFRSTREAM_DEL_SOA) {
			v[at] = v[--n];
		} else {
			v[n++] = o->k;
		}
		if (soa && o->ev == XFRSTREAM_ADD_SOA) {
			serial = o->serial;
		}
	}
	*out = v;
	*n_out = n;
	*ser = serial;
	return 0;
diff:
	free(v);
	return ZX_EDIFF;
}

static int commit(void *txn, int64_t now, const char *primary, struct zdb_commit *res)
{
	(void)now;
	struct txn *t = txn;
	struct memstore *m = t->m;
	pthread_mutex_lock(&m->mu);
	struct zone *z = find(m, t->zone, true);
	struct key *v = NULL;
	size_t n = 0;
	uint32_t serial = 0;
	int rc = z == NULL ? ZX_ENOMEM : apply(t, z, &v, &n, &serial);
	enum serial_order o = z != NULL ? serial_cmp(serial, z->pub.serial) : SERIAL_GT;
	if (rc == 0 && z->pub.loaded && o != SERIAL_GT && t->rule != ZDB_SERIAL_ANY &&
	    !(o == SERIAL_EQ && t->rule == ZDB_SERIAL_SAME)) {
		snprintf(errtext, sizeof(errtext), "memstore: serial %u not newer than %u", serial,
		         z->pub.serial);
		free(v);
		rc = ZX_ESERIAL;
	} else if (rc != 0) {
		snprintf(errtext, sizeof(errtext), "memstore: the diff does not apply");
	}
	if (rc == 0) {
		*res = (struct zdb_commit){.had_serial = z->pub.loaded, .old_serial = z->pub.serial,
		                           .serial = serial, .records = n};
		free(z->rrs);
		z->rrs = v;
		z->n = n;
		z->pub.loaded = true;
		z->pub.serial = serial;
		z->pub.records = n;
		z->pub.state = 1;
		z->pub.last_error = 0;
		z->pub.commits++;
		snprintf(z->pub.primary, sizeof(z->pub.primary), "%s", primary);
	}
	pthread_mutex_unlock(&m->mu);
	txn_free(t);
	return rc;
}

static void txn_abort(void *txn)
{
	txn_free(txn);
}

static int zone_fail(void *store, const uint8_t *zone, int64_t now, int err, const char *text,
                     const char *primary, enum zdb_state *after)
{
	(void)now;
	*after = ZDB_STATE_FAILED;
	struct memstore *m = store;
	pthread_mutex_lock(&m->mu);
	struct zone *z = find(m, zone, true);
	z->pub.state = 2;
	z->pub.last_error = err;
	z->pub.fails++;
	snprintf(z->pub.last_text, sizeof(z->pub.last_text), "%s", text ? text : "");
	snprintf(z->pub.primary, sizeof(z->pub.primary), "%s", primary ? primary : "");
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static int zone_fresh(void *store, const uint8_t *zone, int64_t now, enum zdb_state *after)
{
	(void)now;
	*after = ZDB_STATE_FRESH;
	struct memstore *m = store;
	pthread_mutex_lock(&m->mu);
	struct zone *z = find(m, zone, true);
	z->pub.state = 1;
	z->pub.last_error = 0;
	pthread_mutex_unlock(&m->mu);
	return 0;
}

bool memstore_get(struct memstore *m, const uint8_t *zone, struct memstore_zone *out)
{
	pthread_mutex_lock(&m->mu);
	struct zone *z = find(m, zone, false);
	if (z != NULL) {
		*out = z->pub;
	}
	pthread_mutex_unlock(&m->mu);
	return z != NULL;
}

bool memstore_has(struct memstore *m, const uint8_t *zone, const char *owner, uint16_t type,
                  const uint8_t *rdata, size_t rdlen)
{
	uint8_t o[DNAME_MAXLEN];
	int olen = dname_from_text(owner, o);
	struct key k;
	make_key(&k, o, (size_t)olen, type, rdata, rdlen);
	pthread_mutex_lock(&m->mu);
	struct zone *z = find(m, zone, false);
	bool has = z != NULL && index_of(z->rrs, z->n, &k) >= 0;
	pthread_mutex_unlock(&m->mu);
	return has;
}

const struct xfr_store_ops memstore_ops = {
	.zone_get = zone_get,
	.begin = begin,
	.put = put,
	.commit = commit,
	.abort = txn_abort,
	.fail = zone_fail,
	.fresh = zone_fresh,
	.error = last_error,
};
