/* SPDX-License-Identifier: MIT */
/* xfrd/service/pipeline.h -- xfrd's Kafka mode: consumer group, refresh timers, events, health.
 *
 * pipeline_run() wires the modules on one libevent loop and runs it until
 * SIGINT or SIGTERM:
 *   xfrd/service/runtime  the zones: one record each, the scheduler, the timers of
 *                         the zones whose partitions this replica owns, the engine
 *                         hand-off, expiry (the same runtime as standalone)
 *   xfrd/kafka/consumer   its request source: requests topic -> runtime; outcomes ->
 *                         events, commits; due timers -> REFRESH requests
 *   xfrd/kafka/updates    ZoneUpdated events and REFRESH requests (one producer)
 *   xfrd/notify/notifier  NOTIFY to the zones' downstream secondaries
 *   xfrd/serve            the DNS endpoint
 *   common/ops/opshttp    /metrics, /health (commit progress), /ready on xfrd.http
 *   xfrd/api              the registry's REST API on the same server (xfrd.api.tokens
 *                         set): its refresh/retransfer go out as TransferRequests
 *                         through xfrd/kafka/updates, as xfrctl's do
 * SIGHUP reloads the config (xfrd/service/reload.h), the API's tokens file with it.
 * Shutdown: leave the group (revocation: running transfers waited for, what is
 * finished committed), stop the engine, flush the producer, free.
 *
 * Not here: the store and the engine's creation (xfrd/main.c).
 *
 * Threading: runs on the calling thread; the engine's workers hand outcomes back.
 */
#ifndef ZX_XFRD_PIPELINE_H
#define ZX_XFRD_PIPELINE_H

#include "common/err.h"

struct cfg;
struct engine;
struct zdb;

/** Commits are batched at most this often. */
#define PIPELINE_COMMIT_INTERVAL_MS 50
/** Cap on the wait for running transfers when partitions are revoked. */
#define PIPELINE_REVOKE_WAIT_MAX_MS 240000

/**
 * Run until SIGINT/SIGTERM.
 * @param cfg, db  borrowed
 * @param engp     the running engine; TAKEN: it is stopped and freed here (before
 *                 the consumer its callbacks point to) and *engp set to NULL
 * @return 0 after a clean stop; ZX_ECONFIG, ZX_EKAFKA, ZX_EIO, ZX_ENOMEM when a
 *         part could not start (logged)
 */
ZX_MUSTCHECK int pipeline_run(const struct cfg *cfg, struct zdb *db, struct engine **engp);

#endif
