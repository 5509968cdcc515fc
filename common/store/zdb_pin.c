/* SPDX-License-Identifier: MIT */
/* common/store/zdb_pin.c -- versions pinned in memory by detached zone iterators
 * (zdb_iter_detach()), so the writing process's gc keeps them while a slow reader,
 * such as an AXFR served to a slow client, holds no LMDB snapshot.
 *
 * A short list under one mutex: it holds one entry per detached iterator (xfrd's
 * endpoint caps its transfers), and is read by the gc once per dead version and
 * by an IXFR commit once.
 */
#include "common/store/zdb.h"
#include "common/store/zdb_internal.h"

#include <stdlib.h>

int zdb_pin_take(struct zdb *db, uint32_t vid, struct zdb_pin **out)
{
	struct zdb_pin *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return ZX_ENOMEM;
	}
	p->vid = vid;
	pthread_mutex_lock(&db->pin_mu);
	p->next = db->pins;
	db->pins = p;
	pthread_mutex_unlock(&db->pin_mu);
	*out = p;
	return 0;
}

void zdb_pin_drop(struct zdb *db, struct zdb_pin *pin)
{
	if (pin == NULL) {
		return;
	}
	pthread_mutex_lock(&db->pin_mu);
	struct zdb_pin **pp = &db->pins;
	while (*pp != pin) {
		pp = &(*pp)->next;
	}
	*pp = pin->next;
	pthread_mutex_unlock(&db->pin_mu);
	free(pin);
	zdb_gc_kick(db); /* the version may be dead and waiting for us */
}

bool zdb_pin_changed(struct zdb *db, const struct zdb_pin *pin)
{
	pthread_mutex_lock(&db->pin_mu);
	bool changed = pin->changed;
	pthread_mutex_unlock(&db->pin_mu);
	return changed;
}

bool zdb_pinned(struct zdb *db, uint32_t vid)
{
	bool yes = false;
	pthread_mutex_lock(&db->pin_mu);
	for (const struct zdb_pin *p = db->pins; p != NULL && !yes; p = p->next) {
		yes = p->vid == vid;
	}
	pthread_mutex_unlock(&db->pin_mu);
	return yes;
}

void zdb_pin_touch(struct zdb *db, uint32_t vid)
{
	pthread_mutex_lock(&db->pin_mu);
	for (struct zdb_pin *p = db->pins; p != NULL; p = p->next) {
		if (p->vid == vid) {
			p->changed = true;
		}
	}
	pthread_mutex_unlock(&db->pin_mu);
}
