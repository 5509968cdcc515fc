/* SPDX-License-Identifier: MIT */
/* xfrd/tools/zonecopy.h -- a zone builder's own copy of one zone: in memory, and in a
 * zone file written atomically. Part of zx-follow (xfrd/tools/zonefollow.c).
 *
 * What it is: the records of one zone, the SOA kept apart, updated by the same
 * events proto/xfrstream.h emits for a transfer answer (a full zone, or IXFR
 * change sets applied in order), and written to a zone file with a temporary
 * file, fsync and rename(), so a reader of the file sees the old zone or the
 * new one, never half of it.
 * What it is not: a zone parser of its own (files are read with ldns), a DNS
 * server, or a checker of DNS semantics.
 *
 * Records are compared octet for octet on owner (lowercase), type, class and
 * RDATA (uncompressed, as the transfer carries it); the TTL is not part of a
 * record's identity (an added record equal to a held one replaces its TTL).
 * Memory: proportional to the zone; an IXFR change set costs O(zone + diff log
 * diff) (one merge pass), an answer of K change sets K passes.
 *
 * Updating: zonecopy_apply() receives the events of one answer; the copy stays
 * unchanged until XFRSTREAM_END commits them all at once. Any failure (a
 * deleted record the copy lacks: ZX_EDIFF) leaves the copy as it was; call
 * zonecopy_abort() to drop the half-read answer before the next one.
 *
 * Threading: a zonecopy belongs to one thread.
 */
#ifndef ZX_XFRD_ZONECOPY_H
#define ZX_XFRD_ZONECOPY_H

#include "common/dname.h"
#include "common/err.h"
#include "proto/xfrstream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zonecopy_rec;

/** One zone's copy. Fields down to @c records are readable; the rest is private. */
struct zonecopy {
	uint8_t zone[DNAME_MAXLEN]; /**< lowercase wire name */
	char zone_text[DNAME_TEXTLEN]; /**< canonical text with the trailing dot */
	bool loaded;      /**< the copy holds a zone (serial and the records are valid) */
	uint32_t serial;  /**< the SOA serial held */
	size_t records;   /**< records held, the SOA included */

	struct zonecopy_rec *soa;
	struct zonecopy_rec **v; /* sorted, SOA excluded */
	size_t n;
	/* the answer being applied */
	int kind;                  /* 0 none, XFRSTREAM_BEGIN_AXFR or _BEGIN_IXFR */
	uint32_t at;               /* IXFR: the serial the working set is at */
	struct zonecopy_rec *new_soa;
	struct zonecopy_rec **w;   /* the working set: v after the applied change sets */
	size_t wn;
	bool w_owned;              /* w is not v (free the array, not the records) */
	struct zonecopy_rec **dels, **adds, **born, **dead;
	size_t ndels, nadds, nborn, ndead;
	size_t cdels, cadds, cborn, cdead;
};

/**
 * An empty copy of @p zone.
 * @param[out] c     initialised; zonecopy_deinit() it after
 * @param[in]  zone  wire name, any case; borrowed
 * @return 0; ZX_EINVAL @p zone is not a valid name
 */
ZX_MUSTCHECK int zonecopy_init(struct zonecopy *c, const uint8_t *zone);

/** Free everything @p c holds (the pending answer too). Safe twice. */
void zonecopy_deinit(struct zonecopy *c);

/**
 * Replace the copy with the zone file at @p path (read with ldns; the file must
 * hold the zone's SOA, and records inside the zone only).
 * @param[in] path borrowed
 * @return 0; ZX_ENOENT no such file (the copy is left empty: start with AXFR);
 *         ZX_EFORMAT the file does not parse, has no SOA of the zone, or a record
 *         outside it (the copy is left empty); ZX_ENOMEM
 */
ZX_MUSTCHECK int zonecopy_load(struct zonecopy *c, const char *path);

/**
 * Write the copy to @p path atomically: PATH.tmp.XXXXXX, fsync, rename, fsync
 * of the directory. One record a line, SOA first, absolute names, a comment line
 * on top with @p comment (may be NULL).
 * @param[in] path, comment borrowed
 * @return 0; ZX_EINVAL the copy holds no zone; ZX_EIO a write, fsync or rename
 *         failed (errno kept; the temporary file is removed); ZX_EFORMAT a record
 *         ldns cannot print; ZX_ENOMEM
 */
ZX_MUSTCHECK int zonecopy_write(const struct zonecopy *c, const char *path, const char *comment);

/**
 * Apply one event of a transfer answer; an xfrstream_cb (the @p arg is the
 * zonecopy). The events must come in xfrstream's order; XFRSTREAM_END commits.
 * @param[in] rr borrowed for the call
 * @return 0; ZX_EDIFF a deleted record is not in the copy, or an IXFR does not
 *         start from the copy's serial; ZX_EINVAL an event out of order (a bug of
 *         the caller) or a record that is not the zone's; ZX_ENOMEM.
 *         After an error, call zonecopy_abort() (the copy itself is unchanged).
 */
ZX_MUSTCHECK int zonecopy_apply(void *arg, enum xfrstream_ev ev, const struct xfrstream_rr *rr);

/** Drop a half-applied answer; the copy is what it was before. No-op when none. */
void zonecopy_abort(struct zonecopy *c);

/**
 * The SOA record held (for an IXFR query's authority section).
 * @param[out] rdata, rdlen  borrowed from @p c until the next change
 * @return 0; ZX_ENOENT the copy holds no zone
 */
ZX_MUSTCHECK int zonecopy_soa(const struct zonecopy *c, const uint8_t **rdata, size_t *rdlen);

#endif
