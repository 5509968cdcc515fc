/* SPDX-License-Identifier: MIT */
/* xfrd/service/primstats.h -- transfer outcomes by primary:
 *   xfrd_primary_outcomes_total{primary="addr@port",outcome="uptodate|axfr|ixfr|failed"}
 * one counter per primary and outcome, registered the first time the primary is seen
 * (the four at once, so a rate() of each starts at 0). Primaries come from the zones'
 * settings (the file's and the registry's), so they are few; past PRIMSTATS_MAX the
 * rest are counted under primary="other".
 *
 * Threading: the loop thread (outcomes are handled there; the scrape too).
 */
#ifndef ZX_XFRD_SERVICE_PRIMSTATS_H
#define ZX_XFRD_SERVICE_PRIMSTATS_H

#include "common/err.h"

#include <stddef.h>

struct metrics;
struct primstats;

/** Most primaries with series of their own. */
#define PRIMSTATS_MAX 1024

/** Outcomes, in the order of enum xfr_outcome from XFR_UPTODATE. */
enum primstats_outcome { PRIMSTATS_UPTODATE, PRIMSTATS_AXFR, PRIMSTATS_IXFR, PRIMSTATS_FAILED };

/**
 * @param m  borrowed; outlives the table
 * @return owned (primstats_free()); NULL out of memory
 */
struct primstats *primstats_new(struct metrics *m);

/** Count one outcome of @p primary ("addr@port"; "" counts as "unknown"). Out of memory:
 *  not counted. */
void primstats_count(struct primstats *ps, const char *primary, enum primstats_outcome o);

/** Free (the series stay in the registry). NULL ok. */
void primstats_free(struct primstats *ps);

#endif
