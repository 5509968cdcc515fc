/* SPDX-License-Identifier: MIT */
/* xfrd/service/zoneset.c -- the file's zones and the registry's, fed to the runtime. */
#include "xfrd/service/zoneset.h"

#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "common/log.h"
#include "proto/regmirror.h"
#include "xfrd/service/runtime.h"
#include "xfrd/zone/zone.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zoneset {
	struct zoneset_opts o;
	const struct cfg *cfg;
	struct regmirror *reg;
	bool complete;          /* the file's zones and the whole registry are in the runtime */
	struct event *sweep;
};

static int put(struct zoneset *zs, const struct cfg_zone *z)
{
	struct zone_settings *set = NULL;
	int rc = zone_settings_from_cfg(z, &set);
	if (rc == 0) {
		rc = runtime_zone_put(zs->o.rt, set); /* takes set */
	}
	if (rc != 0) {
		log_error("zone_put_failed", "zone=%s error=%s", z->name_text, zx_strerror(rc));
	}
	return rc;
}

static void on_changed(void *ctx, const char *name, const struct cfg_zone *z)
{
	struct zoneset *zs = ctx;
	if (z != NULL) {
		(void)put(zs, z);
		return;
	}
	uint8_t wire[DNAME_MAXLEN];
	if (dname_from_text(name, wire) < 0 || cfg_zone_find(zs->cfg, wire) != NULL) {
		return; /* the file's zone stays */
	}
	int rc = runtime_zone_remove(zs->o.rt, wire);
	if (rc != 0 && rc != ZX_ENOTFOUND) {
		log_error("zone_remove_failed", "zone=%s error=%s", name, zx_strerror(rc));
	}
}

static int64_t sweep_interval(const struct cfg *cfg)
{
	int64_t s = (int64_t)(cfg->registry.purge_after_ms / 1000 / 4);
	return s < 1 ? 1 : s > ZONESET_SWEEP_MAX_S ? ZONESET_SWEEP_MAX_S : s;
}

static void arm_sweep(struct zoneset *zs)
{
	struct timeval tv = {.tv_sec = sweep_interval(zs->cfg)};
	event_add(zs->sweep, &tv);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct zoneset *zs = arg;
	(void)runtime_sweep(zs->o.rt, zs->complete);
	arm_sweep(zs);
}

static void complete(struct zoneset *zs)
{
	zs->complete = true;
	size_t n = runtime_sweep(zs->o.rt, true);
	log_info("zones_complete", "registry=%s sweep=%zu", zs->reg != NULL ? "yes" : "no", n);
	arm_sweep(zs);
}

static void on_caught_up(void *ctx)
{
	complete(ctx);
}

int zoneset_new(const struct zoneset_opts *o, struct zoneset **out, char *err, size_t errlen)
{
	if (o->cfg == NULL || o->base == NULL || o->rt == NULL) {
		return ZX_EINVAL;
	}
	struct zoneset *zs = calloc(1, sizeof(*zs));
	if (zs == NULL) {
		return ZX_ENOMEM;
	}
	zs->o = *o;
	zs->cfg = o->cfg;
	runtime_set_purge_after(o->rt, (int64_t)(o->cfg->registry.purge_after_ms / 1000));
	zs->sweep = event_new(o->base, -1, 0, on_sweep, zs);
	int rc = zs->sweep == NULL ? ZX_ENOMEM : 0;
	if (rc == 0 && o->cfg->registry.enabled) {
		struct regmirror_opts mo = {
			.cfg = o->cfg, .base = o->base, .m = o->m, .prefix = "xfrd",
			.client_id = o->cfg->xfrd.replica, .writer = o->writer,
			.hooks = {.changed = on_changed, .caught_up = on_caught_up}, .ctx = zs,
		};
		rc = regmirror_new(&mo, &zs->reg, err, errlen);
	}
	if (rc != 0) {
		zoneset_free(zs);
		return rc;
	}
	if (zs->reg == NULL) {
		/* the file is the whole zone set: sweep once the loop runs */
		struct timeval now = {0};
		zs->complete = true;
		event_add(zs->sweep, &now);
	}
	*out = zs;
	return 0;
}

void zoneset_free(struct zoneset *zs)
{
	if (zs == NULL) {
		return;
	}
	regmirror_free(zs->reg);
	if (zs->sweep != NULL) {
		event_free(zs->sweep);
	}
	free(zs);
}

bool zoneset_ready(const struct zoneset *zs, char *why, size_t size)
{
	if (zs->complete) {
		return true;
	}
	if (zs->reg != NULL) {
		regmirror_why_not(zs->reg, why, size);
	}
	return false;
}

struct regmirror *zoneset_registry(const struct zoneset *zs)
{
	return zs->reg;
}

const struct cfg_zone *zoneset_lookup(void *arg, const uint8_t *apex)
{
	struct zoneset *zs = arg;
	struct zone *z = runtime_zone(zs->o.rt, apex);
	return z != NULL ? &z->set->z : NULL;
}

bool zoneset_is_file_zone(const struct zoneset *zs, const uint8_t *name)
{
	return cfg_zone_find(zs->cfg, name) != NULL;
}

size_t zoneset_reload(struct zoneset *zs, const struct cfg *ncfg)
{
	const struct cfg *old = zs->cfg;
	size_t n = 0;
	zs->cfg = ncfg;
	runtime_set_purge_after(zs->o.rt, (int64_t)(ncfg->registry.purge_after_ms / 1000));
	for (size_t i = 0; i < ncfg->zone_count; i++) {
		n += put(zs, &ncfg->zones[i]) == 0;
	}
	if (zs->reg != NULL) {
		regmirror_set_cfg(zs->reg, ncfg); /* puts the registry's zones again */
	}
	for (size_t i = 0; i < old->zone_count; i++) {
		const uint8_t *name = old->zones[i].name;
		if (cfg_zone_find(ncfg, name) != NULL ||
		    (zs->reg != NULL && regmirror_zone(zs->reg, name) != NULL)) {
			continue;
		}
		if (runtime_zone_remove(zs->o.rt, name) == 0) {
			n++;
		}
	}
	return n;
}
