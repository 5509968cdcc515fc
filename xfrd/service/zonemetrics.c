/* SPDX-License-Identifier: MIT */
/* xfrd/service/zonemetrics.c -- per-zone series at scrape time (see the header). */
#include "xfrd/service/zonemetrics.h"

#include "common/clock.h"
#include "common/dname.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/store/zdb.h"
#include "xfrd/service/runtime.h"
#include "xfrd/zone/plan.h"
#include "xfrd/zone/zone.h"

#include <stdio.h>
#include <stdlib.h>

enum family { F_SERIAL, F_STATE, F_SUCCESS, F_EXPIRE, F_COUNT };

struct zonemetrics;

/* One family's callback argument: which family, and the shared state. */
struct fam {
	struct zonemetrics *zm;
	enum family f;
};

struct zonemetrics {
	struct runtime *rt;
	struct zdb *db;
	uint32_t limit;
	struct fam fams[F_COUNT];
};

/* One pass of the store for one family. */
struct pass {
	const struct fam *fam;
	struct metrics_out *o;
	int64_t now;
};

static int one_zone(const struct zdb_zone_info *zi, void *arg)
{
	struct pass *p = arg;
	struct zonemetrics *zm = p->fam->zm;
	const struct zone *z = runtime_zone(zm->rt, zi->name);
	if (z == NULL || !z->owned || z->removed || zi->state == ZDB_STATE_REMOVED) {
		return 0;
	}
	char text[DNAME_TEXTLEN], esc[DNAME_TEXTLEN * 2], l[DNAME_TEXTLEN * 2 + 40];
	if (dname_to_text(zi->name, text, sizeof(text)) != 0) {
		return 0;
	}
	metrics_label_value(text, esc, sizeof(esc));
	snprintf(l, sizeof(l), "zone=\"%s\"", esc);
	switch (p->fam->f) {
	case F_SERIAL:
		if (zi->loaded) {
			metrics_sample(p->o, l, zi->serial);
		}
		break;
	case F_STATE: {
		static const char *const names[] = {"fresh", "refreshing", "failed", "expired"};
		int cur = z->run != ZONE_IDLE                  ? 1
		          : zi->state == ZDB_STATE_FAILED      ? 2
		          : zi->state == ZDB_STATE_EXPIRED     ? 3
		                                               : 0;
		for (int i = 0; i < 4; i++) {
			char ls[sizeof(l) + 32];
			snprintf(ls, sizeof(ls), "%s,state=\"%s\"", l, names[i]);
			metrics_sample(p->o, ls, i == cur);
		}
		break;
	}
	case F_SUCCESS:
		if (zi->last_success > 0) {
			metrics_sample(p->o, l, (double)(p->now - zi->last_success));
		}
		break;
	default:
		if (zi->loaded && zi->last_success > 0) {
			int64_t at = zi->last_success + plan_expire_s(&z->set->z, zi);
			metrics_sample(p->o, l, (double)(at - p->now));
		}
		break;
	}
	return 0;
}

static void render(void *arg, struct metrics_out *o)
{
	const struct fam *fam = arg;
	struct zonemetrics *zm = fam->zm;
	struct runtime_stats st;
	runtime_stats(zm->rt, &st);
	if (zm->limit == 0 || st.zones > zm->limit) {
		return;
	}
	struct pass p = {.fam = fam, .o = o, .now = clock_wall_s()};
	struct zdb_snap *s = NULL;
	int rc = zdb_snap_begin(zm->db, &s);
	if (rc == 0) {
		rc = zdb_zone_list(s, one_zone, &p);
	}
	zdb_snap_end(s);
	if (rc != 0) { /* fewer series this scrape */
		log_warn("metrics_zones_unread", "error=%s detail=\"%s\"", zx_strerror(rc),
		         zdb_last_error());
	}
}

int zonemetrics_new(struct metrics *m, struct runtime *rt, struct zdb *db, uint32_t limit,
                    struct zonemetrics **out)
{
	static const char *const helps[F_COUNT] = {
		"The zone's serial in the store (per zone: xfrd.metrics.per-zone-limit).",
		"1 for the zone's state (fresh, refreshing, failed, expired), 0 for the others.",
		"Seconds since the zone's last successful refresh (transfer or SOA check).",
		"Seconds until the zone expires (clamped SOA expire from the last success)."};
	struct zonemetrics *zm = calloc(1, sizeof(*zm));
	if (zm == NULL) {
		return ZX_ENOMEM;
	}
	*zm = (struct zonemetrics){.rt = rt, .db = db, .limit = limit};
	for (int i = 0; i < F_COUNT; i++) {
		zm->fams[i] = (struct fam){.zm = zm, .f = (enum family)i};
	}
	/* literal names, so tests/deploy/check_monitoring.py finds them registered */
	int rc = metrics_family(m, "xfrd_zone_serial", helps[F_SERIAL], render,
	                        &zm->fams[F_SERIAL]);
	rc = rc == 0 ? metrics_family(m, "xfrd_zone_state", helps[F_STATE], render,
	                              &zm->fams[F_STATE])
	             : rc;
	rc = rc == 0 ? metrics_family(m, "xfrd_zone_last_success_seconds", helps[F_SUCCESS],
	                              render, &zm->fams[F_SUCCESS])
	             : rc;
	rc = rc == 0 ? metrics_family(m, "xfrd_zone_expire_seconds", helps[F_EXPIRE], render,
	                              &zm->fams[F_EXPIRE])
	             : rc;
	if (rc != 0) {
		free(zm); /* the families registered point here: @p m must be freed unrendered */
		return rc;
	}
	*out = zm;
	return 0;
}

void zonemetrics_set_limit(struct zonemetrics *zm, uint32_t limit)
{
	zm->limit = limit;
}

void zonemetrics_free(struct zonemetrics *zm)
{
	free(zm);
}
