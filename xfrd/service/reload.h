/* SPDX-License-Identifier: MIT */
/* xfrd/service/reload.h -- what a config reload (SIGHUP) may change in a running xfrd.
 *
 * Live: log.level, keys (and key files), tsig.max-fudge, xfrd.serve.allow/keys,
 * xfrd.refresh/retry/expire/jitter/limits, xfrd.api (the tokens file is read
 * again, the allow list replaced; turning the API on or off needs a restart),
 * zone-defaults, zones, registry.purge-after. Everything else is read once at start (sockets, the store,
 * the Kafka clients, the engine's limits): a reload that changes any of it is
 * refused as a whole, with the fields named, and nothing is applied.
 *
 * Threading: pure.
 */
#ifndef ZX_XFRD_RELOAD_H
#define ZX_XFRD_RELOAD_H

#include <stddef.h>

struct cfg;

/**
 * The fields that differ between @p old and @p ncfg and need a restart, as a
 * comma-separated list in @p buf ("xfrd.listen,kafka.group").
 * @return how many differ (0: the reload may go ahead)
 */
size_t reload_restart_fields(const struct cfg *old, const struct cfg *ncfg, char *buf,
                             size_t size);

#endif
