/* SPDX-License-Identifier: MIT */
/* xfrd/service/zoneset.h -- the zones xfrd serves: the config file's, then the registry's.
 *
 * The runtime (xfrd/service/runtime.h) starts with the file's zones. This module
 * adds the registry (proto/regmirror.h) when the config has one: once the registry
 * was read to its end, every zone its records resolve to is put into the runtime
 * (the replay itself changes nothing: a zone added and removed before the end
 * never reaches the runtime or the store); after that each record puts its zone
 * and a tombstone removes it. A zone of the file with the same name wins over a
 * record. It also owns what removal means over time:
 *
 *   - the zone set is complete once the registry is caught up (at once without a
 *     registry): then, and every sweep interval after, runtime_sweep() marks
 *     REMOVED the zones the store holds that nobody configures any more, and
 *     purges the REMOVED ones whose grace (registry.purge-after; 1 d without a
 *     registry) has passed;
 *   - a reload (zoneset_reload()) resolves the registry again with the new
 *     config, puts the file's zones, and removes the file's zones that are gone
 *     (unless the registry has them).
 *
 * xfrd is ready (zoneset_ready()) once the zone set is complete.
 *
 * Threading: the loop thread of opts.base.
 */
#ifndef ZX_XFRD_ZONESET_H
#define ZX_XFRD_ZONESET_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct cfg_zone;
struct event_base;
struct metrics;
struct regmirror;
struct runtime;
struct zoneset;

/** Sweeps run this often at most (and at least every grace / 4, >= 1 s). */
#define ZONESET_SWEEP_MAX_S 60

struct zoneset_opts {
	const struct cfg *cfg;    /**< borrowed until zoneset_reload() replaces it */
	struct event_base *base;  /**< borrowed */
	struct runtime *rt;       /**< borrowed; must outlive the zoneset */
	struct metrics *m;        /**< borrowed; may be NULL */
	bool writer;              /**< the REST API writes the registry through this process */
};

/**
 * Start: follow the registry if the config has one; schedule the first sweep.
 * @param[out] out  returned owned (zoneset_free()); untouched on error
 * @return 0; ZX_EINVAL; ZX_ECONFIG, ZX_EKAFKA (@p err); ZX_EIO; ZX_ENOMEM
 */
ZX_MUSTCHECK int zoneset_new(const struct zoneset_opts *o, struct zoneset **out, char *err,
                             size_t errlen);

/** Stop following and free. NULL ok. */
void zoneset_free(struct zoneset *zs);

/** True once the zone set is complete; else @p why says what is awaited. */
bool zoneset_ready(const struct zoneset *zs, char *why, size_t size);

/** The registry (for the REST API); NULL when the config has none. */
struct regmirror *zoneset_registry(const struct zoneset *zs);

/**
 * The settings of the zone @p apex (wire) when xfrd serves it: a zone of the
 * runtime. NULL otherwise (never configured, or removed). For xfrd/serve's
 * zone_lookup hook.
 */
const struct cfg_zone *zoneset_lookup(void *zs, const uint8_t *apex);

/** True when @p name (wire) is a zone of the config file (the API may not change it). */
bool zoneset_is_file_zone(const struct zoneset *zs, const uint8_t *name);

/**
 * Apply a reloaded config's zones: the registry resolved again with @p ncfg, the
 * file's zones put, the ones gone from the file removed. @p ncfg is borrowed from
 * now on (the caller keeps it alive until the next reload).
 * @return zones put and removed
 */
size_t zoneset_reload(struct zoneset *zs, const struct cfg *ncfg);

#endif
