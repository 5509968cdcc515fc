/* SPDX-License-Identifier: MIT */
/* tests/bed/zonegen.h -- a deterministic zone generator for tests and benchmarks.
 *
 * Writes zone-file text: $ORIGIN/$TTL, the SOA, two apex NS with glue, then
 * `records` body records, one RR a line with absolute owner names
 * ("owner TTL IN TYPE rdata"). The body follows the record mix of big.test in
 * ANCHORS.md: A ~37% (a third of them in 3-RR RRsets), AAAA ~16%, TXT ~10%,
 * MX pairs ~8%, CNAME ~9%, delegations (2 NS + 2 glue A) ~15%, SRV ~4%.
 *
 * The same options give the same bytes. Every item's content is a pure function
 * of (seed, item index), so an edited zone (change/delete/add) is the base
 * zone with exactly those records different: K changed A records give an IXFR
 * of K deletions and K additions plus the SOA pair. Edits pick A records that
 * are not glue; `edit_seed` picks which ones.
 *
 * Not a zone-file parser and not a validator. Test-bed code: not linked into
 * the daemons.
 *
 * Threading: no shared state; zonegen_write() may run in several threads with
 * their own options and streams.
 */
#ifndef ZX_TESTS_BED_ZONEGEN_H
#define ZX_TESTS_BED_ZONEGEN_H

#include "common/err.h"

#include <stdint.h>
#include <stdio.h>

/** What to write. Zero-initialise, then set what matters. */
struct zonegen_opts {
	const char *origin; /**< zone name with or without the final dot; borrowed */
	uint64_t seed;      /**< picks the content */
	uint32_t serial;    /**< the SOA serial */
	uint64_t records;   /**< body records (after SOA, apex NS and their glue) */
	uint64_t change;    /**< A records whose address changes */
	uint64_t del;       /**< A records deleted */
	uint64_t add;       /**< A records added at new owners, after the body */
	uint64_t edit_seed; /**< picks the edited records */
};

/** What was written, by type (counts of RRs, apex included). */
struct zonegen_stats {
	uint64_t total; /**< every RR written, SOA included */
	uint64_t a, aaaa, txt, mx, cname, ns, srv;
	uint64_t changed, deleted, added;
};

/**
 * Write the zone.
 * @param[in]  o    options; borrowed
 * @param[in]  out  stream written to; borrowed (not closed)
 * @param[out] st   counts, may be NULL; written only on 0
 * @return 0; ZX_EINVAL when the origin is empty or longer than 200 characters,
 *         or change + del exceeds the A records the body has; ZX_EIO when a write
 *         to @p out failed
 */
ZX_MUSTCHECK int zonegen_write(const struct zonegen_opts *o, FILE *out, struct zonegen_stats *st);

#endif
